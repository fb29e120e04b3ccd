"""Writes spirals.csv: two interleaved spirals (x, y, label, split), 200 points per class, seed 2026.

The committed spirals.csv is the data set the TuneNn example uses; this script documents how it was made
and regenerates it byte for byte: python3 make_spirals.py > spirals.csv
"""
import math
import random

rng = random.Random(2026)
print("x,y,label,split")
for i in range(200):
    for label in (0, 1):
        t = 0.25 + 3.0 * math.pi * i / 200          # 1.5 turns
        r = t / (3.0 * math.pi)
        sign = 1 if label == 0 else -1
        x = sign * r * math.cos(t) + rng.gauss(0, 0.02)
        y = sign * r * math.sin(t) + rng.gauss(0, 0.02)
        split = "val" if rng.random() < 0.25 else "train"
        print(f"{x:.5f},{y:.5f},{label},{split}")
