/**
 * Runs once before the suite: generates the fixture models (test/fixtures/repo) and the bundled
 * repository's model files, so every test file can rely on them.
 */
import { generateFixtures, generateModels } from '../src/model-generator/generate.js';

export default function setup(): void {
  generateModels();
  generateFixtures();
}
