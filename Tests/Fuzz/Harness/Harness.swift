import Foundation

// Built two ways (scripts/fuzz.sh):
// - with `-sanitize=fuzzer,address -D FUZZING`: libFuzzer's `main` drives
//   `LLVMFuzzerTestOneInput`; READSTATES_FUZZ_TARGET names the harness;
// - as a plain executable: `readstates-fuzz TARGET FILE...` runs the inputs once each
//   (replaying a corpus or a crash without the sanitizers).

#if FUZZING
import FuzzerDriver

/// The harness libFuzzer calls, chosen once from READSTATES_FUZZ_TARGET.
private let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["READSTATES_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        fatalError("READSTATES_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue))")
    }
    return target
}()

/// The executable's entry point under the name SwiftPM gives it (it links `main` to
/// it): hands over to libFuzzer's driver.
@_cdecl("readstates_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    _ = selected
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        selected.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }
}
#else
@main
struct FuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("usage: readstates-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE|DIR...\n".utf8))
            exit(64)
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { "\(path)/\($0)" }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                target.run(Array(data))
                count += 1
            }
        }
        print("\(name): \(count) inputs run")
    }
}
#endif
