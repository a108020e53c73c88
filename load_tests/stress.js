// Stress (16 m): climb past normal traffic in plateaus to find where latency gives way.
import { options as build, ramping, step, summary } from './lib/scenario.js';

export const options = build(
  'stress',
  ramping(1, [
    [120, 50],
    [180, 50],
    [120, 100],
    [180, 100],
    [120, 150],
    [120, 150],
    [120, 0],
  ]),
);
export default step;
export const handleSummary = summary;
