/**
 * The fault scenarios' consumer in a process of its own, running the fault task, so a
 * scenario can SIGKILL it mid-batch (see test/support/consumer-process.ts).
 *
 * Environment: that of serveConsumer, and JOURNAL.
 */
import { serveConsumer } from '../support/consumer-process.ts';
import { EffectsJournal, faultImplementations } from './effects.ts';

await serveConsumer('consumer-child', faultImplementations(new EffectsJournal(process.env.JOURNAL!)));
