// The PetSwipe user journey shared by every scenario: browse pets, swipe, read matches.
import http from 'k6/http';
import { check } from 'k6';

export const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:18080';
// The users' credentials: set in k6's process environment by the pipeline, not by --env.
const API_KEY = __ENV.API_KEY || '';

export const params = {
  headers: Object.assign(
    { 'Content-Type': 'application/json' },
    API_KEY ? { 'X-API-Key': API_KEY } : {},
  ),
};

function pick(max) {
  return 1 + Math.floor(Math.random() * max);
}

// What a correct answer holds, per request kind; only checked when bodies are kept.
const BODY_CHECKS = {
  pets: { 'pets listed': (r) => Array.isArray(r.json('pets')) },
  pet: { 'pet has an id': (r) => r.json('id') !== undefined },
  swipe: { 'swipe recorded': (r) => r.json('id') !== undefined },
  matches: { 'matches listed': (r) => Array.isArray(r.json('matches')) },
};

// One request per call, so an arrival rate in iterations is a rate in requests.
// `bodies: true` also checks the answers' content (the campaign scenarios); the canary
// discards bodies and checks statuses only.
export function journeyStep(opts = {}) {
  const roll = Math.random();
  let kind;
  let res;
  if (roll < 0.45) {
    kind = 'pets';
    res = http.get(`${BASE_URL}/api/pets?limit=20`, Object.assign({ tags: { name: kind } }, params));
  } else if (roll < 0.75) {
    kind = 'pet';
    res = http.get(`${BASE_URL}/api/pets/${pick(50)}`, Object.assign({ tags: { name: kind } }, params));
  } else if (roll < 0.9) {
    kind = 'swipe';
    const body = JSON.stringify({
      user_id: pick(20),
      pet_id: pick(50),
      direction: Math.random() < 0.5 ? 'like' : 'pass',
    });
    res = http.post(`${BASE_URL}/api/swipes`, body, Object.assign({ tags: { name: kind } }, params));
  } else {
    kind = 'matches';
    res = http.get(`${BASE_URL}/api/matches?user_id=${pick(20)}`, Object.assign({ tags: { name: kind } }, params));
  }
  check(res, { 'status is 2xx': (r) => r.status >= 200 && r.status < 300 });
  if (opts.bodies && res.status >= 200 && res.status < 300) {
    check(res, BODY_CHECKS[kind]);
  }
  return res;
}
