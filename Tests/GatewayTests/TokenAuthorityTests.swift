import Foundation
import Gateway
import Snowflake
import Testing

@Suite struct TokenAuthorityTests {
    let authority = TokenAuthority(secret: Data(repeating: 7, count: 32))
    let user = Snowflake(rawValue: 175_928_847_299_117_063)

    @Test func aMintedTokenNamesItsUser() throws {
        let token = authority.mint(user: user, issuedAt: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(token.split(separator: ".").count == 3)
        #expect(!token.contains("="))
        #expect(try authority.verify(token) == user)
        // The first part is base64url of the decimal ID.
        #expect(token.hasPrefix("MTc1OTI4ODQ3Mjk5MTE3MDYz."))
    }

    @Test func aTokenFromAnotherSecretOrAlteredIsRefused() throws {
        let other = TokenAuthority(secret: Data(repeating: 8, count: 32))
        #expect(throws: TokenError.badSignature) { try authority.verify(other.mint(user: user)) }
        let token = authority.mint(user: user)
        let parts = token.split(separator: ".")
        // Another user's ID with this token's signature.
        let forged = "MTI." + parts[1] + "." + parts[2]
        #expect(throws: TokenError.badSignature) { try authority.verify(forged) }
    }

    @Test(arguments: ["", "abc", "a.b", "a.b.c.d", "a.b.!!!", "...", "Zm9v.YmFy.c2ln"])
    func malformedTokensAreRefused(token: String) {
        #expect(throws: TokenError.self) { try authority.verify(token) }
    }
}
