import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/**
 * Collects garbage and lets the FinalizationRegistry run, so tensors that earlier tests forgot
 * (and that the registry frees at unpredictable times) cannot change `memory()` during a
 * measurement. Call it right before taking the baseline of a memory assertion.
 */
export async function settleGarbage(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
