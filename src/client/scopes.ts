// The token-spec scopes the client asks for: shared by the client and its blob uploads.
export const pullScope = (repo: string) => `repository:${repo}:pull`;
export const pushScope = (repo: string) => `repository:${repo}:pull,push`;
