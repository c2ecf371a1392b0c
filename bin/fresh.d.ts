/** True when dist/ holds a build at least as new as every source file. */
export declare function distIsFresh(): boolean;
