// The mock's self-tests share one mock per file, reset before every test.
import { before, after, beforeEach } from 'node:test';
import { startMock } from '../lib/harness.mjs';

/* Registers the hooks; `set` receives the mock once it is up. */
export function freshMockPerTest(T, set) {
  let mock;
  before(async () => {
    mock = await startMock();
    set(mock);
  }, T);
  after(async () => {
    await mock?.stop();
  });
  beforeEach(async () => {
    await mock.reset({ keys: true, config: true });
  });
}
