/**
 * What HTTP threads (`serval serve --http-threads`, src/server/threaded-transport.ts) may serve without the
 * main thread: a model's READY versions that take requests straight into their native scheduler, with the
 * token each scheduler is published under (NativeModel.shareToken) and the config requests are validated by.
 */
import type { ModelConfig } from '../repository/model-config.js';

export interface FrontEndModel {
  name: string;
  /** The version a request that names none is served by (Runtime.servingVersion); undefined: none ready. */
  serving: number | undefined;
  versions: { version: number; token: number; config: ModelConfig }[];
}
