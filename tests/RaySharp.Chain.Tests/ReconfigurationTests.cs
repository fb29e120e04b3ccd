using static RaySharp.Chain.Tests.TestCluster;

namespace RaySharp.Chain.Tests;

public sealed class ReconfigurationTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "raysharp-chain-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    /// <summary>Kills the three servers and the controller, starts them again from their logs and returns a client once every group is fully replicated.</summary>
    private static async Task<Client.ChainClient> RestartEverythingAsync(Hosting.LocalChainCluster cluster)
    {
        foreach (var id in new[] { 0, 1, 2 })
            cluster.KillServer(id);
        cluster.KillController();

        await cluster.StartControllerAsync();
        foreach (var id in new[] { 0, 1, 2 })
            await cluster.StartServerAsync(id);
        var client = await ClientAsync(cluster);
        await WaitFullyReplicatedAsync(client, cluster);
        return client;
    }

    private static async Task AssertAllKeysAsync(Client.ChainClient chain, int count, string prefix)
    {
        for (var i = 0; i < count; i++)
        {
            var entry = await chain.GetAsync($"{prefix}{i}");
            Assert.Equal(($"value-{i}", 1L), (Text(entry.Value), entry.Version));
        }
    }

    [Fact]
    public async Task Stopping_every_server_and_starting_them_again_loses_no_acknowledged_write()
    {
        await using var cluster = await StartAsync(3, 3, _data, "always");
        await using (var chain = await ClientAsync(cluster))
        {
            await WaitFullyReplicatedAsync(chain, cluster);
            await Task.WhenAll(Enumerable.Range(0, 200).Select(i => chain.PutAsync($"d{i}", Bytes($"value-{i}"))));
        }
        await using var again = await RestartEverythingAsync(cluster);

        await AssertAllKeysAsync(again, 200, "d");
        Assert.Equal(2, await again.PutAsync("d0", Bytes("next")));
    }

    [Fact]
    public async Task Adding_and_removing_servers_rebalances_groups_without_losing_keys()
    {
        await using var cluster = await StartAsync(servers: 3, replicas: 2);
        await using var chain = await ClientAsync(cluster);
        await WaitFullyReplicatedAsync(chain, cluster);
        await Task.WhenAll(Enumerable.Range(0, 300).Select(i => chain.PutAsync($"r{i}", Bytes($"value-{i}"))));

        await cluster.StartServerAsync(3);
        await cluster.StartServerAsync(4);
        int[] all = [0, 1, 2, 3, 4];
        var grown = await WaitForViewAsync(chain, v => Settled(v, all), "groups to settle on the consistent-hashing placement over servers 0-4");
        Assert.Contains(grown.Chains, c => c.Contains(3));
        Assert.Contains(grown.Chains, c => c.Contains(4));
        await AssertAllKeysAsync(chain, 300, "r");

        await chain.RemoveServerAsync(0);
        int[] rest = [1, 2, 3, 4];
        await WaitForViewAsync(chain, v => Settled(v, rest) && v.Chains.All(c => !c.Contains(0)), "server 0 to leave every chain");
        cluster.KillServer(0);
        await AssertAllKeysAsync(chain, 300, "r");
    }

    [Fact]
    public async Task A_joining_server_is_switched_into_its_groups_together_not_one_configuration_per_group()
    {
        await using var cluster = await StartAsync(servers: 3, replicas: 3);
        await using var chain = await ClientAsync(cluster);
        var before = await WaitFullyReplicatedAsync(chain, cluster);
        await Task.WhenAll(Enumerable.Range(0, 300).Select(i => chain.PutAsync($"j{i}", Bytes($"value-{i}"))));

        await cluster.StartServerAsync(3);
        int[] all = [0, 1, 2, 3];
        var after = await WaitForViewAsync(chain, v => Settled(v, all), "groups to settle on the consistent-hashing placement over servers 0-3");

        // Server 3 joins about three quarters of the groups (f + 1 = 3 of 4 servers per chain). Switching each joiner
        // in with a configuration of its own, then dropping each surplus server with another, took two per group.
        var joined = after.Chains.Count(c => c.Contains(3));
        Assert.True(joined >= after.Chains.Count / 2, $"server 3 joined only {joined} of {after.Chains.Count} groups");
        Assert.True(after.Epoch - before.Epoch < joined, $"the rebalance took {after.Epoch - before.Epoch} configurations to move {joined} groups");
        await AssertAllKeysAsync(chain, 300, "j");
    }

    /// <summary>Every chain holds exactly the f + 1 distinct servers consistent hashing picks, and no join is running.</summary>
    private static bool Settled(Client.ChainClusterView view, int[] servers) =>
        view.Joining.All(j => j < 0) &&
        view.Chains.Select((c, g) => c.Count == view.Replicas && c.Distinct().Count() == c.Count &&
            c.Order().SequenceEqual(Placement.DesiredChain(g, servers, view.Replicas).Order())).All(ok => ok);

    [Fact]
    public async Task A_crashed_controller_restarts_from_its_log_and_still_repairs_chains()
    {
        await using var cluster = await StartAsync(servers: 4);
        await using var chain = await ClientAsync(cluster);
        await WaitFullyReplicatedAsync(chain, cluster);
        var before = await chain.GetClusterViewAsync();

        cluster.KillController();
        // Writes need no controller: heads, chains and acknowledgements keep working.
        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => chain.PutAsync($"c{i}", Bytes($"value-{i}"))));

        await cluster.StartControllerAsync();
        var resumed = await chain.GetClusterViewAsync();
        Assert.True(resumed.Epoch >= before.Epoch, $"the restarted controller went back from epoch {before.Epoch} to {resumed.Epoch}");
        await AssertAllKeysAsync(chain, 100, "c");

        var victim = resumed.Chains[0][0];
        cluster.KillServer(victim);
        await WaitForViewAsync(chain, v => v.Chains.All(c => !c.Contains(victim)), $"the restarted controller to cut server {victim} out");
        await WaitFullyReplicatedAsync(chain, cluster);
        await AssertAllKeysAsync(chain, 100, "c");
    }

    [Fact]
    public async Task A_server_that_missed_a_configuration_push_catches_up_while_the_controller_is_down()
    {
        // Server 0 never receives a pushed configuration, as when the controller crashes between logging a
        // configuration and pushing it to everyone. It must learn the failover from its heartbeat or from
        // its neighbours; otherwise it defers their newer frames (or forwards to the dead server) forever
        // and writes through it never complete.
        await using var cluster = await StartWithControllerArgsAsync(4, 3, ["--fault-skip-push", "0"]);
        await using var chain = await ClientAsync(cluster);
        await WaitFullyReplicatedAsync(chain, cluster);
        var victim = 1;
        cluster.KillServer(victim);
        var failover = await WaitForViewAsync(chain, v => v.Chains.All(c => !c.Contains(victim)), $"server {victim} to be cut out");
        // The controller commits before it pushes: wait until the servers it does push to hold the failover,
        // else nobody but the dead controller could tell server 0 about it.
        foreach (var id in cluster.RunningServers.Where(id => id != 0))
        {
            await using var direct = await Client.ChainClient.ConnectAsync(new Client.ChainClientOptions { Controller = cluster.ServerEndPoint(id) });
            await WaitForViewAsync(direct, v => v.Epoch >= failover.Epoch, $"server {id} to adopt epoch {failover.Epoch}");
        }
        cluster.KillController();

        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => chain.PutAsync($"m{i}", Bytes($"value-{i}"))));

        await cluster.StartControllerAsync();
        await AssertAllKeysAsync(chain, 100, "m");
    }

    [Fact]
    public async Task Compacted_logs_stay_small_and_a_full_restart_still_loses_no_acknowledged_write()
    {
        await using var cluster = await StartAsync(3, 3, _data, "always", "--compact-kb", "64");
        const int keys = 20, rounds = 100;
        var value = new string('v', 200);
        await using (var chain = await ClientAsync(cluster))
        {
            await WaitFullyReplicatedAsync(chain, cluster);
            for (var round = 0; round < rounds; round++)
                await Task.WhenAll(Enumerable.Range(0, keys).Select(i => chain.PutAsync($"z{i}", Bytes($"{value}-{round}"))));
            await chain.DeleteAsync("z0");
        }
        // Each server logged about 20 x 100 records of ~230 bytes (~460 KB); compaction at 64 KB keeps
        // one record per key plus what came after the last compaction.
        foreach (var id in new[] { 0, 1, 2 })
        {
            var data = LogDataBytes(Path.Combine(_data, $"server-{id}", "chain.log"));
            Assert.True(data < 160 * 1024, $"server {id}'s log holds {data} bytes of records; compaction should keep it under 160 KB");
        }
        await using var again = await RestartEverythingAsync(cluster);
        Assert.Equal(new(null, rounds + 1), await again.GetAsync("z0"));
        for (var i = 1; i < keys; i++)
        {
            var entry = await again.GetAsync($"z{i}");
            Assert.Equal(($"{value}-{rounds - 1}", (long)rounds), (Text(entry.Value), entry.Version));
        }
        // A deleted key's version survives compaction and restart: it is never reused.
        Assert.Equal(rounds + 2, await again.PutAsync("z0", Bytes("back")));
    }

    /// <summary>Bytes of the log before its zero-filled preallocated tail.</summary>
    private static long LogDataBytes(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var end = bytes.Length;
        while (end > 0 && bytes[end - 1] == 0)
            end--;
        return end;
    }
}
