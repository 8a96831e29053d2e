/**
 * `@kiln/nn` — modules, layers, losses, initialisers, optimisers and data batching, written
 * only against eager's public API. **Skeleton:** nothing of that exists yet; this package
 * describes itself so tools and tests can tell skeletons from working packages.
 */

/** What this package is and how far along. `status` becomes `'working'` when `Module` lands. */
export const PACKAGE_INFO = Object.freeze({
  name: '@kiln/nn',
  status: 'skeleton',
  planned: Object.freeze(['Module', 'layers', 'losses', 'initialisers', 'optimisers', 'data batching', 'checkpoints']),
} as const);
