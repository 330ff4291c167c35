#!/usr/bin/env node
// The `tributary` command: Node runs the TypeScript sources directly (type stripping).
import '../src/main.ts';
