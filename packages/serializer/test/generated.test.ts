/**
 * The committed FlatBuffers code is what `scripts/gen-flatbuffers.sh` makes from
 * schema/kiln.fbs today. CI installs flatc (scripts/lib/setup.sh, KILN_APT_PACKAGES).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

it('regenerating src/generated/ from schema/kiln.fbs changes nothing', () => {
  const out = execFileSync('bash', ['scripts/gen-flatbuffers.sh', '--check'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  expect(out).toContain('up to date');
});
