// Where the HTTP layer and the pull-through cache have always imported the redirect and chunk
// capabilities from. They are defined, with their one type guard each, in the contract
// (../driver.ts); this module only re-exports them so those importers need not change.
export {
  canPresign, minChunkLengthOf, redirectsOf,
  type BlobRedirects, type Presigner, type RedirectRequest,
} from '../driver.js';
