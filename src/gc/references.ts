// The collector's reading of a manifest's references: the lenient reader the reference tables
// use too (src/oci/references.ts), so both collectors keep the same things.
export { manifestRefs, type ManifestRefs } from '../oci/references.js';
