// `storage.s3`: Distribution's S3 driver keys.
import { unimplemented } from './common.js';

export const S3Section = unimplemented('the S3 driver is not implemented yet');
