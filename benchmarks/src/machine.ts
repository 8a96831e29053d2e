import { execFileSync } from 'node:child_process';
import { cpus, platform, arch, totalmem, loadavg } from 'node:os';

/** Where a benchmark ran: compare numbers only between runs on the same machine. */
export interface MachineInfo {
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  /** Short commit of the benchmarked tree, with `+dirty` when it has uncommitted changes; null outside git. */
  readonly commit: string | null;
  /** 1, 5 and 15-minute load averages when the run started (other work on the machine skews timings). */
  readonly loadAverage?: readonly number[];
  /** Threads each framework uses, by implementation name prefix (e.g. `kiln`, `tfjs-wasm`). */
  readonly threads?: Readonly<Record<string, string>>;
}

function gitCommit(): string | null {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty === '' ? sha : `${sha}+dirty`;
  } catch {
    return null;
  }
}

export function machineInfo(threads?: Readonly<Record<string, string>>): MachineInfo {
  const cpu = cpus();
  return {
    node: process.version,
    platform: platform(),
    arch: arch(),
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    commit: gitCommit(),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    ...(threads !== undefined ? { threads } : {}),
  };
}
