export { type Config, ConfigError, loadConfig } from './config.js';
export { serve } from './serve.js';
export { type AssembleOptions, assemble, type Gatehouse } from './wiring.js';
