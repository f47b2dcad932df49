/**
 * The eight seed scenarios of issue 5: the catalogue lives in production code (services/common/chaos-scenarios.ts),
 * shared with the operations console's chaos playground.
 */
export { SCENARIOS, scenarioById, type Scenario } from "../../services/common/chaos-scenarios";
