// Canary traffic: a steady arrival rate through the router while the gates observe.
// RATE (requests/s) and DURATION bound it; the pipeline stops it earlier when a step ends.
// API_KEY, when the service has one, reaches k6 through its process environment (never its
// command line) and goes out as X-API-Key, so the canary is judged on requests users send.
import { journeyStep } from './lib/journey.js';

const RATE = parseInt(__ENV.RATE || '100', 10);

export const options = {
  discardResponseBodies: true,
  scenarios: {
    canary: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: __ENV.DURATION || '60s',
      preAllocatedVUs: Math.max(10, Math.ceil(RATE / 5)),
      maxVUs: Math.max(50, RATE * 2),
    },
  },
};

export default function () {
  journeyStep();
}
