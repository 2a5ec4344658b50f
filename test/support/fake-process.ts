// A process stand-in for the abort handlers: signals are emitted by the test, and the parent
// pid is whatever the test sets.
import { EventEmitter } from 'node:events';

export class FakeProcess extends EventEmitter {
  ppid = 4242;

  /** As the handlers take it. */
  asProcess(): NodeJS.Process {
    return this as unknown as NodeJS.Process;
  }
}
