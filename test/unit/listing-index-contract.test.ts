// Runs the listing-index contract suite (test/suites/listing-index.suite.ts) on the storage walk,
// SQLite and PostgreSQL.
import { forEachListingBackend } from '../suites/listing-index.suite.js';

forEachListingBackend('the listing index equals a storage walk after every operation');
