let gradEnabled = true;
let anomaly = false;

/** Whether ops currently record for autograd (false inside `noGrad`). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` without recording gradients: results of ops inside do not require grad. Use it
 * for evaluation, and for parameter updates that must not be differentiated.
 *
 * @example
 * ```ts
 * const predictions = noGrad(() => model.forward(testX));
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with gradient recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Anomaly detection (opt-in, slow: it reads every result back): while on, the first op whose
 * output holds NaN or ±Inf throws an `AnomalyError` naming that op, in the forward pass and in
 * backward. Like `torch.autograd.set_detect_anomaly`.
 *
 * @example
 * ```ts
 * setAnomalyDetection(true);
 * loss.backward(); // AnomalyError: log produced NaN/Inf in its output …
 * ```
 */
export function setAnomalyDetection(enabled: boolean): void {
  anomaly = enabled;
}

export function isAnomalyDetectionEnabled(): boolean {
  return anomaly;
}
