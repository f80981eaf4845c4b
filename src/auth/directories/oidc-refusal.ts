// Its own module so the console's routes can recognise a refusal without loading openid-client
// (and jose, undici) in a registry that has no OpenID Connect configured.

/** The provider signed the user in, but this registry's rules do not let the account in. */
export class OidcRefusal extends Error {}
