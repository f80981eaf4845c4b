// A StorageDriver decorator timing every action into Distribution's
// `registry_storage_action_seconds{driver,action}`. Readers and writers are timed until they
// are handed back (the time to open them), as Distribution times its driver calls. Optional
// capabilities are timed too (CreateExclusive, PendingSize, ...): the base forwards them all.
import { DriverWrapper, type DriverCall } from '../storage/base.js';
import type { StorageDriver } from '../storage/driver.js';
import type { Metrics } from './metrics.js';

export class InstrumentedDriver extends DriverWrapper {
  readonly #histogram: Metrics['storageAction'];

  constructor(inner: StorageDriver, metrics: Pick<Metrics, 'storageAction'>) {
    super(inner);
    this.#histogram = metrics.storageAction;
  }

  protected async around<T>(call: DriverCall, op: () => Promise<T>): Promise<T> {
    const end = this.#histogram.startTimer({ driver: this.inner.name, action: call.action });
    try {
      return await op();
    } finally {
      end();
    }
  }
}
