-- The windowed pairing of pipeline/mimic (chemistry preset, defaults: pre = the latest
-- value within 24 h before a group's start, post = the first 1 to 24 h after it, same
-- admission, labs without hadm_id take the admission they were charted in; ties in
-- time keep the larger value), in SQL, on a MIMIC-IV folder. {{DIR}} is the folder.
-- The last query prints, per analyte, the groups with a pre value, a post value and
-- both, which bench.sh compares with prepare's summary.
CREATE TEMP TABLE items AS SELECT * FROM (VALUES
  (50971, 'potassium'), (50822, 'potassium'), (50983, 'sodium'), (50824, 'sodium'),
  (50902, 'chloride'), (50806, 'chloride'), (50882, 'bicarbonate'), (51006, 'urea_nitrogen'),
  (50912, 'creatinine'), (50931, 'glucose'), (50809, 'glucose'), (50868, 'anion_gap'),
  (50960, 'magnesium'), (50893, 'calcium_total'), (50970, 'phosphate'), (51221, 'hematocrit'),
  (50810, 'hematocrit'), (51222, 'hemoglobin'), (50811, 'hemoglobin'), (51265, 'platelets'),
  (51301, 'wbc'), (51300, 'wbc')) t(itemid, analyte);

CREATE TEMP TABLE g AS
SELECT subject_id, starttime, min(hadm_id) AS hadm_id
FROM read_csv('{{DIR}}/hosp/prescriptions.csv.gz', header = true, auto_detect = false,
  columns = {'subject_id': 'BIGINT', 'hadm_id': 'BIGINT', 'pharmacy_id': 'BIGINT', 'poe_id': 'VARCHAR',
    'poe_seq': 'VARCHAR', 'order_provider_id': 'VARCHAR', 'starttime': 'TIMESTAMP', 'stoptime': 'TIMESTAMP',
    'drug_type': 'VARCHAR', 'drug': 'VARCHAR', 'formulary_drug_cd': 'VARCHAR', 'gsn': 'VARCHAR', 'ndc': 'VARCHAR',
    'prod_strength': 'VARCHAR', 'form_rx': 'VARCHAR', 'dose_val_rx': 'VARCHAR', 'dose_unit_rx': 'VARCHAR',
    'form_val_disp': 'VARCHAR', 'form_unit_disp': 'VARCHAR', 'doses_per_24_hrs': 'VARCHAR', 'route': 'VARCHAR'})
WHERE starttime IS NOT NULL
GROUP BY ALL;

CREATE TEMP TABLE adm AS
SELECT subject_id, hadm_id, admittime, dischtime
FROM read_csv('{{DIR}}/hosp/admissions.csv.gz', header = true);

CREATE TEMP TABLE labs AS
SELECT l.subject_id, coalesce(l.hadm_id, a.hadm_id) AS hadm_id, i.analyte, l.charttime, l.valuenum
FROM read_csv('{{DIR}}/hosp/labevents.csv.gz', header = true, auto_detect = false, quote = '"', escape = '"',
  columns = {'labevent_id': 'BIGINT', 'subject_id': 'BIGINT', 'hadm_id': 'BIGINT', 'specimen_id': 'BIGINT',
    'itemid': 'BIGINT', 'order_provider_id': 'VARCHAR', 'charttime': 'TIMESTAMP', 'storetime': 'TIMESTAMP',
    'value': 'VARCHAR', 'valuenum': 'DOUBLE', 'valueuom': 'VARCHAR', 'ref_range_lower': 'DOUBLE',
    'ref_range_upper': 'DOUBLE', 'flag': 'VARCHAR', 'priority': 'VARCHAR', 'comments': 'VARCHAR'}) l
JOIN items i USING (itemid)
LEFT JOIN adm a ON l.hadm_id IS NULL AND a.subject_id = l.subject_id AND l.charttime BETWEEN a.admittime AND a.dischtime
WHERE l.valuenum IS NOT NULL
  AND (i.analyte = 'anion_gap' OR l.valuenum > 0)
  AND NOT (i.analyte = 'hematocrit' AND l.valuenum > 100)
  AND l.subject_id IN (SELECT subject_id FROM g);

CREATE TEMP TABLE pairs AS
SELECT g.subject_id, g.starttime, l.analyte,
  arg_max(l.valuenum, (l.charttime, l.valuenum)) FILTER (WHERE l.charttime <= g.starttime) AS pre,
  max(l.charttime) FILTER (WHERE l.charttime <= g.starttime) AS pre_time,
  arg_min(l.valuenum, (l.charttime, -l.valuenum)) FILTER (WHERE l.charttime >= g.starttime + INTERVAL 1 HOUR) AS post,
  min(l.charttime) FILTER (WHERE l.charttime >= g.starttime + INTERVAL 1 HOUR) AS post_time
FROM g JOIN labs l ON l.subject_id = g.subject_id AND l.hadm_id = g.hadm_id
  AND l.charttime BETWEEN g.starttime - INTERVAL 24 HOUR AND g.starttime + INTERVAL 24 HOUR
GROUP BY ALL;

SELECT analyte, count(pre_time) AS groups_with_pre, count(post_time) AS groups_with_post,
  count(*) FILTER (WHERE pre_time IS NOT NULL AND post_time IS NOT NULL) AS groups_with_pair
FROM pairs GROUP BY analyte ORDER BY analyte;
