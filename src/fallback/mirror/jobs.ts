/** The mirror's job kinds (a module of its own: the status publish trigger imports it without the builder). */
export const MIRROR_BUILD_JOB = 'fallback.mirror.build';
export const FLAGS_PUBLISH_JOB = 'fallback.flags.publish';
