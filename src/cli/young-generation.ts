// Start-time memory of `berth serve` (issue 22). While a start loads its ~430 modules, opens the
// metadata database and runs its migrations, most of what it allocates survives (module code,
// tables), and V8 answers survivals by doubling its young generation up to the maximum (16 MiB
// committed on Node 20, 64 MiB on Node 24), then keeps it until its memory reducer runs some
// 30 s later: ~4 MiB of the RSS right after start (bench/README.md). Holding the growth factor at
// 1 during the start keeps the young generation at its initial size; once the server answers,
// the default factor is back, so request load grows it as before. V8 reads this flag each time
// it resizes the young generation (checked on Node 20 and 24), so changing it at run time works.
import v8 from 'node:v8';

const FLAG = /--semi[-_]space[-_]growth[-_]factor/;

/** Holds the young generation's growth; the function returned lets it grow again. */
export function holdYoungGeneration(): () => void {
  // An operator's own setting wins: it is left alone, during the start too.
  if (FLAG.test([...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' '))) return () => {};
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  return () => v8.setFlagsFromString('--semi-space-growth-factor=2');
}
