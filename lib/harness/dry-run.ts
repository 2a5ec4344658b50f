// A dry run prints each node's commands and measures nothing. Procedures throw
// DryRunStop once their commands are issued; the collector reports it as a skip, so a
// dry run can never be mistaken for a pass.
export class DryRunStop extends Error {
  constructor() {
    super('dry run: commands printed, nothing measured');
    this.name = 'DryRunStop';
  }
}

export function isDryRunStop(error: unknown): boolean {
  return error instanceof DryRunStop;
}
