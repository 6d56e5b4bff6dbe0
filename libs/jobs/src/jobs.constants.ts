/** CLS key holding the id of the job being performed (read it with `cls.get(JOB_ID_CLS_KEY)`). */
export const JOB_ID_CLS_KEY = 'jobs:jobId';
