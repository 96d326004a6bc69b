/**
 * How big each benchmark is: the full run that the targets are judged on, and a quick
 * run that only proves every phase still works (CI runs it; its figures mean little).
 */

export type Plan = {
  quick: boolean
  /** Runs per figure; the figure is their median. */
  runs: number
  connections: number
  loadSeconds: number
  warmupSeconds: number
  /** Keys preloaded for GET and PUT. */
  httpKeys: number
  /** Records of each batch upload and of the store ceiling. */
  batchRecords: number
  pointReads: number
  bigValueBytes: number
  longUploadBytes: number
  longUploadValueBytes: number
  /** Keys of the growth phase, and how many more each ingest run adds at that size. */
  growthKeys: number
  growthIngestRecords: number
  stallMs: number
}

const MB = 1024 * 1024

export const FULL: Plan = {
  quick: false,
  runs: 3,
  connections: 50,
  loadSeconds: 5,
  warmupSeconds: 2,
  httpKeys: 100_000,
  batchRecords: 1_000_000,
  pointReads: 200_000,
  bigValueBytes: 64 * MB,
  longUploadBytes: 2048 * MB,
  longUploadValueBytes: 1000,
  growthKeys: 10_000_000,
  growthIngestRecords: 300_000,
  stallMs: 5000,
}

export const QUICK: Plan = {
  quick: true,
  runs: 1,
  connections: 50,
  loadSeconds: 1,
  warmupSeconds: 0,
  httpKeys: 5000,
  batchRecords: 20_000,
  pointReads: 5000,
  bigValueBytes: 64 * MB,
  longUploadBytes: 32 * MB,
  longUploadValueBytes: 1000,
  growthKeys: 50_000,
  growthIngestRecords: 5000,
  stallMs: 200,
}
