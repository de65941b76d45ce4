#!/usr/bin/env node
// The built CLI (npm install builds it; `npm run build` after changing the source).
import '../dist/cli/main.js';
