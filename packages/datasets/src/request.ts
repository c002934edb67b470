import { UsageError, checkServes, type Dataset, type DatasetRequest } from '@l2o/core/portable';

/** Fails when a request asks for a problem the dataset does not serve, or for no instances. */
export function checkRequest(dataset: Dataset, request: DatasetRequest): void {
  checkServes(dataset, request.problem);
  if (!Number.isInteger(request.count) || request.count < 1) {
    throw new UsageError(`Dataset ${dataset.id}: instance count ${request.count} is not valid.`, 'Ask for at least 1 instance.');
  }
}
