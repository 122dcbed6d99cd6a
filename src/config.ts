// placeholder: replaced by the real config loader (see src/config.ts in the final tree)
export interface AppConfig {
  dataFile: string;
  currency: string;
  minCohortSize: number;
}
