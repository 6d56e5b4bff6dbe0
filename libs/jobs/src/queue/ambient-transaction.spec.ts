import { TransactionHost } from '@nestjs-cls/transactional';
import { ambientEntityManager } from './ambient-transaction';

describe('ambientEntityManager', () => {
  it('is undefined, without throwing, when @nestjs-cls/transactional is installed but not set up', () => {
    const getInstance = jest.spyOn(TransactionHost, 'getInstance');
    try {
      expect(ambientEntityManager()).toBeUndefined();
      // No host exists: answered from the host map, without getInstance() throwing on every enqueue.
      expect(getInstance).not.toHaveBeenCalled();
    } finally {
      getInstance.mockRestore();
    }
  });

  it('finds the host map in the installed @nestjs-cls/transactional (else every enqueue pays a throw)', () => {
    expect((TransactionHost as unknown as { _instanceMap: unknown })._instanceMap).toBeInstanceOf(
      Map,
    );
  });
});
