// The processing-width policy of webhook intake: processing yields (halves,
// never below one) only while webhooks arrive faster than they are processed
// and the event loop is saturated; otherwise it grows back one step a window.
import { describe, expect, it } from '@jest/globals';
import { BUSY_THRESHOLD, IntakeGovernor, MAX_PROCESSING, nextWidth } from '../../src/inbound/intake-governor.js';

const burst = { arrivals: 50, utilization: 0.98, backlogGrew: true };

describe('intake governor', () => {
  it('halves the width during a burst the loop cannot absorb, down to one and no further', () => {
    const widths = [MAX_PROCESSING];
    for (let i = 0; i < 6; i++) widths.push(nextWidth(widths[widths.length - 1]!, burst));
    expect(widths).toEqual([8, 4, 2, 1, 1, 1, 1]);
  });

  it('keeps full width for a steady flow that processing keeps up with, or a busy loop with nothing arriving', () => {
    expect(nextWidth(MAX_PROCESSING, { ...burst, backlogGrew: false })).toBe(MAX_PROCESSING);
    expect(nextWidth(MAX_PROCESSING, { ...burst, arrivals: 0 })).toBe(MAX_PROCESSING);
    expect(nextWidth(MAX_PROCESSING, { ...burst, utilization: BUSY_THRESHOLD })).toBe(MAX_PROCESSING);
  });

  it('grows back one step per window once the burst is over', () => {
    const widths = [1];
    for (let i = 0; i < 9; i++)
      widths.push(nextWidth(widths[widths.length - 1]!, { arrivals: 0, utilization: 0.99, backlogGrew: false }));
    expect(widths).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 8, 8]);
  });

  it('starts at full width and returns to it when stopped', () => {
    const g = new IntakeGovernor(() => 0);
    expect(g.limit).toBe(MAX_PROCESSING);
    g.arrived();
    g.stop();
    expect(g.limit).toBe(MAX_PROCESSING);
  });
});
