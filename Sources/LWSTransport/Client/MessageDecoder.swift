/// Transport compression the transport itself knows nothing of (a gateway's
/// `?compress=zlib-stream`): turns a connection's binary messages into the messages
/// its delegate reads. Used on the client's service thread only.
public protocol MessageDecoder: AnyObject {
    /// - Returns: a whole message once `message` completes one, nil while more is
    ///   needed (a payload may span several messages).
    /// - Throws: when the bytes are broken; the connection is then closed (1003).
    func decode(_ message: [UInt8]) throws -> [UInt8]?
}
