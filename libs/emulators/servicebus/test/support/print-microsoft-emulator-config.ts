/** Prints the `Config.json` Microsoft's emulator needs to run the conformance suite. */
import { microsoftEmulatorConfig } from './conformance-entities.ts';

console.log(JSON.stringify(microsoftEmulatorConfig(), null, 2));
