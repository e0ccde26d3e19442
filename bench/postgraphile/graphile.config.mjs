// PostGraphile v5 for bench/run.sh: the amber preset, plus connection
// filters so that tasks can be filtered by status NOT IN, as our query does.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

export default {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
};
