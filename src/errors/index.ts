export { ERROR_CODES, type ErrorCode } from './codes.js';
export { RegistryError, isRegistryError, type RegistryErrorOptions } from './registry-error.js';
