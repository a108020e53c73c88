// Smoke (1 m): a light steady rate that proves every journey request works.
import { constant, options as build, step, summary } from './lib/scenario.js';

export const options = build('smoke', constant(5, 60, 10));
export default step;
export const handleSummary = summary;
