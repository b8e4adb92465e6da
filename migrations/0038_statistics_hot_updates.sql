-- A listing's row for the day is updated by every flush while it keeps being shown (every
-- ten seconds on a busy directory). Room left on each page lets those updates stay on the
-- page without touching the indexes (HOT updates: only counts change, and no index covers
-- them), so the indexes do not grow with each flush.
alter table listing_stat_day set (fillfactor = 70);
alter table search_demand_day set (fillfactor = 70);
