// Shared inputs for the template tests.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTemplatesDir } from '../../src/templates/index.js';
import type { MessageVars } from '../../src/templates/index.js';

/** Every variable any shipped template uses, with realistic values. */
export function fullVars(overrides: Partial<MessageVars> = {}): MessageVars {
  return {
    debtorName: 'Jane Doe',
    companyName: 'Acme Recovery Services',
    creditorName: 'Bright Telecom',
    agentName: 'Sam Lee',
    callbackNumber: '+1 555 010 0199',
    accountReference: 'AC-1001',
    verificationNote: 'The signed contract and the March invoice are attached to our records.',
    voicemailBusinessName: 'Acme Services',
    amount: '1234.5000',
    installmentAmount: '411.5000',
    paymentAmount: '100.00',
    currency: 'USD',
    dueDate: '2025-03-15',
    finalDate: '2025-04-30',
    firstInstallmentDate: '2025-05-01',
    paymentDate: '2025-03-20',
    daysPastDue: 45,
    installmentCount: 3,
    paymentLink: 'https://pay.example.com/p/abc123',
    unsubscribeLink: 'https://mail.example.com/u/xyz789',
    verificationCode: '482913',
    ...overrides,
  };
}

/**
 * A writable copy of the shipped templates, so a test can break one file and
 * load the directory. Returns the dir and a cleanup function.
 */
export function copyOfShippedTemplates(): {
  dir: string;
  write(relativePath: string, content: string): void;
  cleanup(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'templates-test-'));
  cpSync(defaultTemplatesDir(), dir, { recursive: true });
  return {
    dir,
    write: (relativePath, content) => writeFileSync(join(dir, relativePath), content),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
