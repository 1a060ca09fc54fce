// Test Lab: every /v1 endpoint with a ready request and an inspector of the raw exchange, and the
// sweep that probes chosen models one by one (and quarantines the ones that fail).
import { Page } from '../ui';
import { Endpoints } from '../lab/endpoints';
import { SweepPanel } from '../lab/sweep';
import '../lab/lab.css';

export function LabPage() {
  return (
    <Page title="Test Lab" intro="Try each endpoint and see the whole exchange; sweep the catalog to find the models that fail.">
      <Endpoints />
      <SweepPanel />
    </Page>
  );
}
