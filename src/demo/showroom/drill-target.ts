import type { DrillTarget } from '../../drills/target.js';
import { SHOWROOM_COMPONENTS } from './entry-points.js';
import type { ShowroomControl } from './showroom.js';

/** The demo showroom as a drill target: a scenario breaks the entry point of the same name. */
export function showroomDrillTarget(showroom: ShowroomControl): DrillTarget {
  return {
    name: 'demo showroom',
    components: (scenario) => [SHOWROOM_COMPONENTS[scenario]],
    break: async (scenario) => {
      await showroom.breakEntry(scenario);
    },
    restore: async (scenario) => {
      await showroom.restore(scenario);
    },
  };
}
