import LWSTransport
import Testing

@Suite struct HTTPRequestTests {
    @Test func argumentsSplitOnAmpersandsAndDecodeWhatWasEncodedInside() {
        let arguments = HTTPRequest.arguments(of: "a=1%262&b=x%25y&c&since=5&d=%zz&e=a=b")
        #expect(arguments.map { String($0.name) } == ["a", "b", "c", "since", "d", "e"])
        // An encoded '&' or '%' stays inside its value; a broken escape is left as it came.
        #expect(arguments.map { String($0.value) } == ["1&2", "x%y", "", "5", "%zz", "a=b"])
        #expect(HTTPRequest(method: "GET", path: "/", query: "since=1%262").queryArgument("since") == "1&2")
        #expect(HTTPRequest.arguments(of: nil).isEmpty)
    }
}
