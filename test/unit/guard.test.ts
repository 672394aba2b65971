import { describe, expect, it } from 'vitest';
import { isAllowedHost } from '../../shared/local/guard.ts';

describe('isAllowedHost', () => {
  it.each([
    ['127.0.0.1:5555', '127.0.0.1', true],
    ['localhost:4566', '127.0.0.1', true],
    ['bucket.localhost:4566', '127.0.0.1', true],
    ['[::1]:5555', '127.0.0.1', true],
    [undefined, '127.0.0.1', true],
    ['attacker.example:5555', '127.0.0.1', false],
    ['192.168.1.5:5555', '127.0.0.1', false],
    ['localhost.attacker.example', '127.0.0.1', false],
    // Open to the network: any address is fine (rebinding needs a name), names other than ours are not.
    ['192.168.1.5:5555', '0.0.0.0', true],
    ['attacker.example:5555', '0.0.0.0', false],
    ['devbox.lan:5555', 'devbox.lan', true],
  ])('Host %s when listening on %s: %s', (host, configured, allowed) => {
    expect(isAllowedHost(host, configured)).toBe(allowed);
  });
});
