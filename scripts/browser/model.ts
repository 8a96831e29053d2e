/**
 * The model the browser page runs in the tests and in `scripts/browser/serve.ts`: a small CNN
 * for 8×8 images (conv 3×3, 16 channels → ReLU → max-pool → flatten → linear → 10 logits) with fixed weights
 * (`manualSeed(0)` initialisation), compiled and saved batch-dynamic with @kiln/tracer's `save`.
 */
import type { Tensor } from '@kiln/eager';
import { manualSeed, zeros } from '@kiln/eager';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@kiln/nn';
import { compile, save } from '@kiln/tracer';

/**
 * The `.kiln` bytes of the page's model, and the model itself (to run the same input in Node).
 *
 * @example
 * ```ts
 * const { bytes } = pageModel();
 * ```
 */
export function pageModel(): { bytes: Uint8Array; model: Sequential } {
  manualSeed(0);
  const model = new Sequential(
    new Conv2d(1, 16, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(256, 10),
  );
  model.eval();
  const predict = compile((images: Tensor) => model.forward(images));
  const bytes = save(predict, [zeros([2, 1, 8, 8])], {
    names: model, inputNames: ['images'], outputNames: ['logits'],
    dynamic: { 0: [0] }, symbols: [{ name: 'batch' }],
  });
  return { bytes, model };
}
