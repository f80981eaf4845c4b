// `notifications`: see the issue that implements it.
import { unimplemented } from './common.js';

export const NotificationsSection = unimplemented('notifications are not implemented yet');
