// The offline world's vocabulary, written for this project: topics with their nouns, task templates, filler
// words, fixed phrases, sources and Chinese sentences. Plain data; seeds.ts and the responder draw from it.

// ---- topics ----

export interface Topic {
  readonly name: string;
  readonly nouns: readonly string[];
}

export const TOPICS: readonly Topic[] = [
  { name: "solar energy", nouns: ["solar", "panels", "sunlight", "grid", "inverter", "battery"] },
  { name: "urban gardening", nouns: ["garden", "soil", "seedlings", "compost", "balcony", "tomatoes"] },
  { name: "remote work", nouns: ["team", "meetings", "schedule", "laptop", "focus", "office"] },
  { name: "ocean conservation", nouns: ["ocean", "reefs", "plastic", "fishing", "whales", "coastline"] },
  { name: "personal finance", nouns: ["budget", "savings", "income", "expenses", "debt", "interest"] },
  { name: "sleep hygiene", nouns: ["sleep", "bedtime", "screens", "caffeine", "routine", "rest"] },
  { name: "machine learning", nouns: ["model", "data", "training", "features", "accuracy", "labels"] },
  { name: "public libraries", nouns: ["library", "books", "readers", "librarians", "catalog", "shelves"] },
  { name: "electric cars", nouns: ["charging", "range", "motor", "battery", "highway", "emissions"] },
  { name: "coffee brewing", nouns: ["coffee", "beans", "grinder", "water", "filter", "aroma"] },
  { name: "marathon training", nouns: ["running", "pace", "mileage", "recovery", "shoes", "hydration"] },
  { name: "honeybees", nouns: ["bees", "hive", "pollen", "queen", "nectar", "flowers"] },
  { name: "online privacy", nouns: ["passwords", "browser", "tracking", "accounts", "encryption", "cookies"] },
  { name: "volcanoes", nouns: ["magma", "eruption", "lava", "crater", "ash", "plates"] },
  { name: "home cooking", nouns: ["recipe", "kitchen", "spices", "oven", "vegetables", "flavor"] },
  { name: "chess strategy", nouns: ["board", "pawns", "opening", "endgame", "knight", "tactics"] },
  { name: "recycling", nouns: ["waste", "bins", "glass", "paper", "metal", "landfill"] },
  { name: "space exploration", nouns: ["rocket", "orbit", "astronauts", "mission", "moon", "telescope"] },
  { name: "language learning", nouns: ["vocabulary", "grammar", "practice", "accent", "lessons", "fluency"] },
  { name: "mental health", nouns: ["stress", "therapy", "support", "mood", "habits", "balance"] },
  { name: "bicycle commuting", nouns: ["bike", "helmet", "lanes", "traffic", "commute", "gears"] },
  { name: "ancient Rome", nouns: ["empire", "senate", "legions", "roads", "forum", "aqueducts"] },
  { name: "photography", nouns: ["camera", "lens", "light", "exposure", "portrait", "composition"] },
  { name: "climate change", nouns: ["climate", "carbon", "warming", "glaciers", "policy", "temperatures"] },
  { name: "small business", nouns: ["customers", "sales", "marketing", "revenue", "staff", "brand"] },
  { name: "board games", nouns: ["dice", "cards", "players", "rules", "strategy", "turns"] },
  { name: "water safety", nouns: ["swimming", "lifeguard", "currents", "pool", "floats", "beach"] },
  { name: "volunteering", nouns: ["community", "volunteers", "charity", "donations", "events", "shelter"] },
  { name: "smartphone habits", nouns: ["phone", "notifications", "apps", "battery", "screen", "messages"] },
  { name: "birdwatching", nouns: ["birds", "binoculars", "feathers", "nests", "migration", "songs"] },
  { name: "job interviews", nouns: ["interview", "resume", "questions", "employer", "skills", "salary"] },
  { name: "renewable wind power", nouns: ["turbines", "wind", "blades", "offshore", "towers", "electricity"] },
  { name: "healthy breakfast", nouns: ["oats", "fruit", "protein", "yogurt", "eggs", "energy"] },
  { name: "time management", nouns: ["deadlines", "priorities", "calendar", "tasks", "planning", "breaks"] },
  { name: "museum visits", nouns: ["museum", "exhibits", "paintings", "guides", "tickets", "history"] },
  { name: "rainforests", nouns: ["trees", "canopy", "species", "rainfall", "logging", "rivers"] },
  { name: "open source software", nouns: ["code", "contributors", "license", "issues", "releases", "community"] },
  { name: "pet adoption", nouns: ["shelter", "dogs", "cats", "adoption", "vet", "training"] },
  { name: "public speaking", nouns: ["audience", "speech", "slides", "nerves", "voice", "stage"] },
  { name: "3D printing", nouns: ["printer", "filament", "layers", "prototype", "design", "nozzle"] },
];

/**
 * Topics for a validation split (scripts/demo-pilots.ts): used neither by the training seeds nor by the held-out
 * seeds (the last 4 of TOPICS), with nouns that occur in no other topic, so settings can be chosen on instructions
 * as unseen as the held-out ones without touching those.
 */
export const VALIDATION_TOPICS: readonly Topic[] = [
  { name: "mountain hiking", nouns: ["trail", "summit", "backpack", "blisters", "compass", "altitude"] },
  { name: "jazz music", nouns: ["saxophone", "rhythm", "improvisation", "trumpet", "chords", "melody"] },
  { name: "first aid", nouns: ["bandage", "wound", "pulse", "splint", "burns", "ambulance"] },
  { name: "knitting", nouns: ["yarn", "needles", "stitches", "wool", "pattern", "scarf"] },
];

// ---- tasks ----

/** Task templates: `{t}` is the topic name. `input` marks tasks that come with an input text. */
export const TASKS: readonly { readonly text: string; readonly input?: boolean }[] = [
  { text: "Write a short blog post about {t}." },
  { text: "Explain {t} to a curious friend." },
  { text: "Give practical tips on {t}." },
  { text: "Describe the main challenges of {t}." },
  { text: "Write a brief newsletter item about {t}." },
  { text: "Summarize the key ideas behind {t}." },
  { text: "Draft a short guide for beginners on {t}." },
  { text: "Write a product description for a workshop on {t}." },
  { text: "Summarize the following notes about {t}.", input: true },
  { text: "Rewrite the following paragraph about {t} for a general audience.", input: true },
];

// ---- words ----

/** Glue words the responder cannot do without; they are never chosen as forbidden words. */
export const RESERVED = new Set([
  "the",
  "a",
  "an",
  "and",
  "or",
  "of",
  "to",
  "in",
  "on",
  "for",
  "with",
  "is",
  "are",
  "be",
  "it",
  "this",
  "that",
  "we",
  "our",
  "as",
  "by",
  "at",
  "from",
  "also",
  "here",
  "word",
  "appears",
  "note",
  "covers",
  "answer",
  "source",
  "section",
  "p",
  "s",
  "figures",
  "follow",
  "again",
  "reports",
]);

export const ADJECTIVES = [
  "simple",
  "careful",
  "steady",
  "modern",
  "local",
  "practical",
  "clear",
  "bright",
  "quiet",
  "useful",
  "early",
  "daily",
  "small",
  "large",
  "fresh",
  "common",
  "public",
  "regular",
  "honest",
  "gentle",
  "strong",
  "patient",
  "curious",
  "hopeful",
  "flexible",
  "reliable",
  "efficient",
  "thoughtful",
  "lasting",
  "creative",
];

export const VERBS = [
  "shapes",
  "supports",
  "improves",
  "changes",
  "guides",
  "builds",
  "helps",
  "needs",
  "rewards",
  "protects",
  "connects",
  "reduces",
  "strengthens",
  "inspires",
  "deserves",
  "requires",
  "invites",
  "explains",
  "drives",
  "balances",
];

export const NOUNS = [
  "people",
  "families",
  "planning",
  "progress",
  "results",
  "choices",
  "habits",
  "communities",
  "ideas",
  "effort",
  "patience",
  "time",
  "learning",
  "teams",
  "goals",
  "details",
  "quality",
  "growth",
  "confidence",
  "care",
];

export const START_PHRASES = [
  "Here is my answer:",
  "In short",
  "Dear reader",
  "Quick summary:",
  "Let me explain",
  "Good question",
  "To begin",
  "My take",
  "Short version:",
  "First things first",
];

export const END_PHRASES = [
  "Is there anything else I can help with?",
  "Thanks for reading.",
  "That is all.",
  "Stay curious.",
  "Let me know your thoughts.",
  "Hope this helps.",
  "End of answer.",
  "Keep going.",
];

export const SOURCES = [
  "World Energy Atlas",
  "City Health Survey",
  "Open Data Portal",
  "National Library Review",
  "Field Notes 2024",
  "Global Trends Report",
  "University Press Guide",
  "Science Weekly",
  "Community Census",
  "Harbor Institute",
];

export const HEADING_TITLES = [
  "Overview",
  "Background",
  "Key Points",
  "Details",
  "Examples",
  "Summary",
  "Next Steps",
  "Tips",
  "Risks",
  "Benefits",
  "Conclusion",
  "Context",
];

export const TABLE_COLUMNS = [
  ["Item", "Detail"],
  ["Step", "Action"],
  ["Factor", "Impact"],
  ["Option", "Benefit", "Cost"],
  ["Term", "Meaning"],
  ["Task", "Owner", "Deadline"],
  ["Name", "Value"],
];

export const JSON_KEYS = ["title", "summary", "details", "tags", "audience", "conclusion", "tips"];

/** Acronyms and names that must keep their capitals when required as keywords. */
export const EXACT_KEYWORDS = ["AI", "NASA", "UNESCO", "Europe", "Monday", "Paris", "GDP", "USB"];

/** Short Chinese sentences (each ends with 。). */
export const ZH_SENTENCES = [
  "这是一个很有意思的话题。",
  "我们应该认真对待这个问题。",
  "每个人都可以从中学到东西。",
  "坚持下去就会看到变化。",
  "这个方法简单而且有效。",
  "细节决定最后的结果。",
  "希望这些建议对你有帮助。",
  "大家一起努力会更好。",
];
