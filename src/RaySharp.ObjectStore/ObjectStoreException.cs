namespace RaySharp.ObjectStore;

/// <summary>Why an object-store operation failed; carried across processes with the message.</summary>
public enum ObjectStoreError
{
    /// <summary>No object with that key (never created, deleted, or a typo).</summary>
    NotFound,

    /// <summary>An object with that key already exists; keys are written once.</summary>
    AlreadyExists,

    /// <summary>The operation does not apply in the object's state (seal twice, read before seal, …).</summary>
    InvalidState,

    /// <summary>The object can never fit: it is larger than the store's capacity.</summary>
    TooLarge,

    /// <summary>The object does not fit now: pinned or unsealed objects and the spill budget leave no room.</summary>
    Full,
}

/// <summary>
/// An object-store operation failed. <see cref="Error"/> says why; the message says what, with sizes,
/// and what to do.
/// </summary>
public class ObjectStoreException : Exception
{
    /// <summary>Creates an exception with a reason and a message.</summary>
    public ObjectStoreException(ObjectStoreError error, string message)
        : base(message) => Error = error;

    /// <summary>Creates an exception with a reason, a message and a cause.</summary>
    public ObjectStoreException(ObjectStoreError error, string message, Exception innerException)
        : base(message, innerException) => Error = error;

    /// <summary>Why the operation failed.</summary>
    public ObjectStoreError Error { get; }

    /// <summary>
    /// Rebuilds the exception on the other side of a transport: <see cref="ObjectStoreFullException"/>
    /// for <see cref="ObjectStoreError.TooLarge"/> and <see cref="ObjectStoreError.Full"/>, otherwise an
    /// <see cref="ObjectStoreException"/> with the same reason and message.
    /// </summary>
    public static ObjectStoreException Create(ObjectStoreError error, string message) => error switch
    {
        ObjectStoreError.TooLarge or ObjectStoreError.Full => new ObjectStoreFullException(error, message),
        _ => new ObjectStoreException(error, message),
    };
}

/// <summary>
/// An object does not fit in the store: either never (<see cref="ObjectStoreError.TooLarge"/>: larger than
/// the capacity) or not now (<see cref="ObjectStoreError.Full"/>: pinned and unsealed objects plus the
/// spill budget leave no room). The message gives the sizes involved.
/// </summary>
public sealed class ObjectStoreFullException : ObjectStoreException
{
    /// <summary>Creates the exception.</summary>
    public ObjectStoreFullException(ObjectStoreError error, string message)
        : base(error, message)
    {
        if (error is not (ObjectStoreError.TooLarge or ObjectStoreError.Full))
            throw new ArgumentOutOfRangeException(nameof(error), error, "Only TooLarge and Full describe a full store.");
    }
}
