// Tables the metadata layer itself needs, independent of any feature.
export interface BookkeepingTables {
  /** Free-form facts about this database: schema owner, when it was created. */
  berth_meta: { key: string; value: string };
}
