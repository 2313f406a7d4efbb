/// A command's arguments as hiredis's `argc, argv, argvlen` (binary-safe: lengths, not
/// NUL terminators), valid for the duration of `body`. hiredis copies them into its
/// output buffer before returning, so nothing must outlive the call.
enum RedisArguments {
    static func withArgv<Result>(
        _ arguments: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int>?) -> Result
    ) -> Result {
        // One buffer for every argument (one byte more, so it is never empty).
        var joined: [UInt8] = []
        joined.reserveCapacity(arguments.reduce(1) { $0 + $1.count })
        var offsets: [Int] = []
        for argument in arguments {
            offsets.append(joined.count)
            joined += argument
        }
        joined.append(0)
        let lengths = arguments.map(\.count)
        return joined.withUnsafeBytes { bytes in
            var argv: [UnsafePointer<CChar>?] = offsets.map { (bytes.baseAddress! + $0).assumingMemoryBound(to: CChar.self) }
            return argv.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in body(Int32(arguments.count), argv.baseAddress, argvlen.baseAddress) }
            }
        }
    }
}
